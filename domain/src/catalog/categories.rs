//! Categories: a tree per tenant, ordered for display; a move that would make a cycle is refused.

use cartwheel_entity::{categories, items, listings};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::{CatalogError, check_slug, check_text, unique_conflict};
use crate::validation::FieldProblem;

pub struct CategoryInput {
    pub name: String,
    pub slug: String,
    pub parent_id: Option<Uuid>,
    pub display_order: i32,
}

/// Every category of the tenant, by display order then name.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
) -> Result<Vec<categories::Model>, CatalogError> {
    Ok(categories::Entity::find()
        .filter(categories::Column::TenantId.eq(tenant_id))
        .order_by_asc(categories::Column::DisplayOrder)
        .order_by_asc(categories::Column::Name)
        .all(db)
        .await?)
}

/// `root` and every category below it.
pub fn subtree(all: &[categories::Model], root: Uuid) -> Vec<Uuid> {
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            all.iter()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        next += 1;
    }
    found
}

pub async fn create<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    input: CategoryInput,
) -> Result<categories::Model, CatalogError> {
    let (name, slug) = validate(&input)?;
    if let Some(parent) = input.parent_id {
        find(db, tenant_id, parent)
            .await
            .map_err(|_| bad_parent())?;
    }
    let now = chrono::Utc::now();
    categories::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        parent_id: Set(input.parent_id),
        name: Set(name),
        slug: Set(slug.clone()),
        display_order: Set(input.display_order),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| unique_conflict(e, "slug", format!("The slug `{slug}` is taken.")))
}

pub async fn update<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    id: Uuid,
    input: CategoryInput,
) -> Result<categories::Model, CatalogError> {
    let (name, slug) = validate(&input)?;
    let existing = find(db, tenant_id, id).await?;
    if let Some(parent) = input.parent_id {
        let all = list(db, tenant_id).await?;
        if !all.iter().any(|c| c.id == parent) {
            return Err(bad_parent());
        }
        if subtree(&all, id).contains(&parent) {
            return Err(CatalogError::Invalid(vec![FieldProblem::new(
                "parentId",
                "would put the category inside itself",
            )]));
        }
    }
    let mut category: categories::ActiveModel = existing.into();
    category.name = Set(name);
    category.slug = Set(slug.clone());
    category.parent_id = Set(input.parent_id);
    category.display_order = Set(input.display_order);
    category.updated_at = Set(chrono::Utc::now());
    category
        .update(db)
        .await
        .map_err(|e| unique_conflict(e, "slug", format!("The slug `{slug}` is taken.")))
}

/// Deletes an empty category: one with sub-categories or products is a conflict.
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<(), CatalogError> {
    find(db, tenant_id, id).await?;
    let children = categories::Entity::find()
        .filter(categories::Column::ParentId.eq(id))
        .count(db)
        .await?;
    // Deleted items keep their listing row for past records, but hold no category.
    let products = listings::Entity::find()
        .filter(listings::Column::CategoryId.eq(id))
        .filter(listings::Column::ItemId.in_subquery(items_deleted(false)))
        .count(db)
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
        .exec(db)
        .await?;
    categories::Entity::delete_by_id(id).exec(db).await?;
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

pub async fn find<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
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
