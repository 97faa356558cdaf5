//! Categories: a tree per tenant, ordered for display, at most [`MAX_DEPTH`] levels deep. A
//! move that would make a cycle is refused, checked and written under a lock on the tenant's
//! categories, so two crossing moves cannot both pass. Every walk of the tree keeps a visited
//! set and stops at the depth limit, and none recurses on the stack: a cycle written by hand in
//! the database cannot hang or crash a request.

use crate::audit::{self, Action, Actor, Diff, Entity};
use std::collections::{HashMap, HashSet};

use cartwheel_entity::{TenantId, categories, items, listings};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{CatalogChanges, CatalogError, check_slug, check_text, unique_conflict};
use crate::validation::FieldProblem;

pub struct CategoryInput {
    pub name: String,
    pub slug: String,
    pub parent_id: Option<Uuid>,
    pub display_order: i32,
}

/// The most levels a tree has: a top-level category is level 1.
pub const MAX_DEPTH: usize = 32;

/// Every category of the tenant, by display order then name.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<categories::Model>, CatalogError> {
    Ok(categories::Entity::find()
        .filter(categories::Column::TenantId.eq(tenant_id))
        .order_by_asc(categories::Column::DisplayOrder)
        .order_by_asc(categories::Column::Name)
        .all(db)
        .await?)
}

/// The tenant's categories, locked for a change of the tree's shape until the transaction
/// ends (on SQLite the IMMEDIATE transaction already holds the only write lock).
async fn list_locked<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<categories::Model>, CatalogError> {
    let mut query = categories::Entity::find().filter(categories::Column::TenantId.eq(tenant_id));
    if db.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.all(db).await?)
}

/// `root` and every category below it, `root` first, at most [`MAX_DEPTH`] levels.
pub fn subtree(all: &[categories::Model], root: Uuid) -> Vec<Uuid> {
    levels(all, root).into_iter().flatten().collect()
}

/// The number of levels from `root` down to its deepest descendant (1 for a leaf).
fn height(all: &[categories::Model], root: Uuid) -> usize {
    levels(all, root).len()
}

/// `root`'s subtree level by level, each category once, at most [`MAX_DEPTH`] levels.
fn levels(all: &[categories::Model], root: Uuid) -> Vec<Vec<Uuid>> {
    let children = children_of(all);
    let mut seen = HashSet::from([root]);
    let mut levels = vec![vec![root]];
    while levels.len() < MAX_DEPTH {
        let below: Vec<Uuid> = levels[levels.len() - 1]
            .iter()
            .flat_map(|parent| children.get(&Some(*parent)).into_iter().flatten())
            .map(|&i| all[i].id)
            .filter(|id| seen.insert(*id))
            .collect();
        if below.is_empty() {
            break;
        }
        levels.push(below);
    }
    levels
}

/// The level of `id` (1 for a top-level category), or `None` when its parents loop.
fn depth(all: &[categories::Model], id: Uuid) -> Option<usize> {
    let parents: HashMap<Uuid, Option<Uuid>> = all.iter().map(|c| (c.id, c.parent_id)).collect();
    let mut seen = HashSet::new();
    let mut current = Some(id);
    while let Some(at) = current {
        if !seen.insert(at) || seen.len() > MAX_DEPTH {
            return None;
        }
        current = parents.get(&at).copied().flatten();
    }
    Some(seen.len())
}

/// The tree from the top-level categories down, in the order of `all`, each node built by
/// `node` from its category and its built children. Walked with a stack of its own, so a deep
/// tree does not recurse; categories deeper than [`MAX_DEPTH`] or on a loop are left out.
pub fn tree<T>(
    all: &[categories::Model],
    node: impl Fn(&categories::Model, Vec<T>) -> T,
) -> Vec<T> {
    let children = children_of(all);
    // Pre-order from the roots: each category comes before its children.
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .into_iter()
        .flatten()
        .rev()
        .map(|&i| (i, 1))
        .collect();
    while let Some((i, level)) = stack.pop() {
        if level > MAX_DEPTH || !seen.insert(i) {
            continue;
        }
        order.push(i);
        let below = children.get(&Some(all[i].id)).into_iter().flatten().rev();
        stack.extend(below.map(|&c| (c, level + 1)));
    }
    // Built in reverse, every category's children are ready before it.
    let mut built: Vec<Option<T>> = all.iter().map(|_| None).collect();
    for &i in order.iter().rev() {
        let kids = children
            .get(&Some(all[i].id))
            .into_iter()
            .flatten()
            .filter_map(|&c| built[c].take())
            .collect();
        built[i] = Some(node(&all[i], kids));
    }
    children
        .get(&None)
        .into_iter()
        .flatten()
        .filter_map(|&i| built[i].take())
        .collect()
}

/// The positions in `all` of each parent's children, in the order of `all`.
fn children_of(all: &[categories::Model]) -> HashMap<Option<Uuid>, Vec<usize>> {
    let mut children: HashMap<Option<Uuid>, Vec<usize>> = HashMap::new();
    for (i, category) in all.iter().enumerate() {
        children.entry(category.parent_id).or_default().push(i);
    }
    children
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn create(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    input: CategoryInput,
) -> Result<categories::Model, CatalogError> {
    let tenant_id = by.tenant_id;
    let (name, slug) = validate(&input)?;
    if let Some(parent) = input.parent_id {
        let all = list(db, tenant_id).await?;
        check_parent(&all, parent, 1)?;
    }
    let now = chrono::Utc::now();
    let txn = crate::transaction::begin(db).await?;
    let category = categories::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        parent_id: Set(input.parent_id),
        name: Set(name),
        slug: Set(slug.clone()),
        display_order: Set(input.display_order),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| unique_conflict(e, "slug", format!("The slug `{slug}` is taken.")))?;
    let diff = Diff::created(&category);
    audit::record(
        &txn,
        by,
        Entity::Category,
        category.id,
        Action::Created,
        diff,
    )
    .await?;
    changes.commit(txn, tenant_id).await?;
    Ok(category)
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn update(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    id: Uuid,
    input: CategoryInput,
) -> Result<categories::Model, CatalogError> {
    let tenant_id = by.tenant_id;
    let (name, slug) = validate(&input)?;
    let txn = crate::transaction::begin(db).await?;
    let all = list_locked(&txn, tenant_id).await?;
    let existing = all
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or(CatalogError::NotFound("category"))?;
    if let Some(parent) = input.parent_id {
        if subtree(&all, id).contains(&parent) {
            return Err(CatalogError::Invalid(vec![FieldProblem::new(
                "parentId",
                "would put the category inside itself",
            )]));
        }
        check_parent(&all, parent, height(&all, id))?;
    }
    let before = existing.clone();
    let mut category: categories::ActiveModel = existing.into();
    category.name = Set(name);
    category.slug = Set(slug.clone());
    category.parent_id = Set(input.parent_id);
    category.display_order = Set(input.display_order);
    category.updated_at = Set(chrono::Utc::now());
    let category = category
        .update(&txn)
        .await
        .map_err(|e| unique_conflict(e, "slug", format!("The slug `{slug}` is taken.")))?;
    let diff = Diff::changed(&before, &category);
    audit::record(&txn, by, Entity::Category, id, Action::Updated, diff).await?;
    changes.commit(txn, tenant_id).await?;
    Ok(category)
}

/// `parent` is a category of `all` under which `levels` more levels fit.
fn check_parent(
    all: &[categories::Model],
    parent: Uuid,
    levels: usize,
) -> Result<(), CatalogError> {
    if !all.iter().any(|c| c.id == parent) {
        return Err(bad_parent());
    }
    match depth(all, parent) {
        Some(depth) if depth + levels <= MAX_DEPTH => Ok(()),
        _ => Err(CatalogError::Invalid(vec![FieldProblem::new(
            "parentId",
            format!("would make the tree deeper than {MAX_DEPTH} levels"),
        )])),
    }
}

/// Deletes an empty category: one with sub-categories or products is a conflict.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn delete(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    id: Uuid,
) -> Result<(), CatalogError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let before = find(&txn, tenant_id, id).await?;
    let children = categories::Entity::find()
        .filter(categories::Column::ParentId.eq(id))
        .count(&txn)
        .await?;
    // Deleted items keep their listing row for past records, but hold no category.
    let products = listings::Entity::find()
        .filter(listings::Column::CategoryId.eq(id))
        .filter(listings::Column::ItemId.in_subquery(items_deleted(false)))
        .count(&txn)
        .await?;
    if children > 0 || products > 0 {
        return Err(CatalogError::Conflict {
            field: None,
            message: format!(
                "The category has {children} sub-categories and {products} products; move them first."
            ),
        });
    }
    // The deleted items' listings let go of the category, then it goes.
    listings::Entity::update_many()
        .col_expr(
            listings::Column::CategoryId,
            sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
        )
        .filter(listings::Column::CategoryId.eq(id))
        .filter(listings::Column::ItemId.in_subquery(items_deleted(true)))
        .exec(&txn)
        .await?;
    categories::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        by,
        Entity::Category,
        id,
        Action::Deleted,
        Diff::deleted(&before),
    )
    .await?;
    changes.commit(txn, tenant_id).await?;
    Ok(())
}

/// The ids of the items that are (or are not) deleted.
fn items_deleted(deleted: bool) -> sea_orm::sea_query::SelectStatement {
    let column = items::Column::DeletedAt;
    sea_orm::sea_query::Query::select()
        .column(items::Column::Id)
        .from(items::Entity)
        .and_where(if deleted {
            column.is_not_null()
        } else {
            column.is_null()
        })
        .to_owned()
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn find<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<categories::Model, CatalogError> {
    categories::Entity::find_by_id(id)
        .filter(categories::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("category"))
}

fn validate(input: &CategoryInput) -> Result<(String, String), CatalogError> {
    let name = check_text("name", &input.name, 200);
    let slug = check_slug("slug", &input.slug);
    match (name, slug) {
        (Ok(name), Ok(slug)) => Ok((name, slug)),
        (name, slug) => Err(CatalogError::Invalid(
            [name.err(), slug.err()].into_iter().flatten().collect(),
        )),
    }
}

fn bad_parent() -> CatalogError {
    CatalogError::Invalid(vec![FieldProblem::new(
        "parentId",
        "is not a category of this shop",
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(id: u128, parent: Option<u128>) -> categories::Model {
        let now = chrono::Utc::now();
        categories::Model {
            id: Uuid::from_u128(id),
            tenant_id: TenantId(Uuid::nil()),
            parent_id: parent.map(Uuid::from_u128),
            name: format!("c{id}"),
            slug: format!("c{id}"),
            display_order: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// Levels of the first branch of `tree`'s rendering.
    fn levels(all: &[categories::Model]) -> usize {
        struct Node(Vec<Node>);
        let mut nodes = tree(all, |_, children| Node(children));
        let mut levels = 0;
        while let Some(Node(children)) = nodes.pop() {
            levels += 1;
            nodes = children;
        }
        levels
    }

    #[test]
    fn a_loop_ends_every_walk() {
        // 1 -> 2 -> 3 -> 2: a loop below a root, and 4 <-> 5 with no way in.
        let all = [
            category(1, None),
            category(2, Some(3)),
            category(3, Some(2)),
            category(4, Some(5)),
            category(5, Some(4)),
        ];
        assert_eq!(subtree(&all, Uuid::from_u128(2)).len(), 2);
        assert_eq!(height(&all, Uuid::from_u128(4)), 2);
        assert_eq!(depth(&all, Uuid::from_u128(4)), None);
        assert_eq!(depth(&all, Uuid::from_u128(1)), Some(1));
        assert_eq!(levels(&all), 1);
    }

    #[test]
    fn a_chain_deeper_than_the_limit_is_cut_at_it() {
        let all: Vec<_> = (1..=10_000u128)
            .map(|i| category(i, (i > 1).then(|| i - 1)))
            .collect();
        assert_eq!(levels(&all), MAX_DEPTH);
        assert_eq!(subtree(&all, Uuid::from_u128(1)).len(), MAX_DEPTH);
        assert_eq!(depth(&all, Uuid::from_u128(10_000)), None);
        assert_eq!(
            depth(&all, Uuid::from_u128(MAX_DEPTH as u128)),
            Some(MAX_DEPTH)
        );
    }
}
