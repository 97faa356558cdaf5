//! What shoppers see: published, active items of one tenant, filtered, searched and sorted.

use std::collections::HashMap;

use cartwheel_entity::{TenantId, categories, items, listings, store_settings};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, Func, LikeExpr, Order, Query, SelectStatement,
    WithClause,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, IdenStatic,
    Iterable, JoinType, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::CatalogError;
use super::items::ItemDetail;
use crate::validation::FieldProblem;

/// The order of a product list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum Sort {
    /// The shop's own order, then name.
    #[default]
    DisplayOrder,
    PriceAsc,
    PriceDesc,
    Name,
    Newest,
}

pub struct ProductQuery {
    /// A category slug; its sub-categories are included.
    pub category: Option<String>,
    /// Matched case-insensitively against name, sku and descriptions.
    pub search: Option<String>,
    pub sort: Sort,
    pub page: u64,
    pub limit: u64,
}

/// A product as listed: the item with its listing, stock and category.
pub struct Product {
    pub detail: ItemDetail,
    pub category_slug: Option<String>,
    pub category_name: Option<String>,
}

/// One page of matching products and the total count.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn products<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    query: &ProductQuery,
) -> Result<(Vec<Product>, u64), CatalogError> {
    // Pages come from `listings` alone, along an index that matches the sort
    // (`listings_store_*`); the 20 items of the page are loaded after.
    let mut select = Query::select();
    select
        .from(listings::Entity)
        .and_where(Expr::col(listings::Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(listings::Column::Visible).eq(true));
    let backend = db.get_database_backend();
    if let Some(slug) = &query.category {
        // The category and everything below it, walked down `categories_parent`. On Postgres
        // `= ANY(ARRAY(..))` computes the subtree once, before the page, so the page reads the
        // `listings_store_category` index; `IN (..)` became a semi-join over every listing
        // (14 ms against 0.7 ms: tests/load/explain-storefront.sql). sea-query marks a custom
        // expression's values `$n` on Postgres and `?` on SQLite.
        let (tenant, category, any, end) = match backend {
            DatabaseBackend::Postgres => ("$1", "$2", "= ANY(ARRAY(", "))"),
            _ => ("?", "?", "IN (", ")"),
        };
        select.and_where(Expr::cust_with_values(
            format!(
                "listings.category_id {any}WITH RECURSIVE subtree(id) AS (\
                   SELECT id FROM categories WHERE tenant_id = {tenant} AND slug = {category} \
                   UNION SELECT c.id FROM categories c JOIN subtree s ON c.parent_id = s.id) \
                 SELECT id FROM subtree{end}"
            ),
            [sea_orm::Value::from(tenant_id), slug.clone().into()],
        ));
    }
    let term = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(term) = term {
        let escaped = term
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        select.and_where(
            Expr::col(listings::Column::SearchText)
                .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }

    let count = select.clone();
    // A filter leaves few rows: the page and their count come in one statement. Without one,
    // an index-only count and a page read along the sort index beat a window over everything.
    let filtered = query.category.is_some() || term.is_some();
    let statement = if term.is_some() {
        // A search reads its matches first, through the trigram index, and sorts them after (a
        // materialized CTE). Left to itself Postgres walks the sort index testing `LIKE` on
        // every listing: for `oak` (1,256 of 10,000) 4.4 ms against 1.0 ms, as the prepared
        // statement's generic plan (tests/load/explain-storefront.sql).
        let matches = Alias::new("matches");
        select.columns([
            listings::Column::ItemId,
            listings::Column::DisplayOrder,
            listings::Column::Name,
            listings::Column::Price,
        ]);
        let cte = CommonTableExpression::new()
            .query(select)
            .materialized(true)
            .table_name(matches.clone())
            .to_owned();
        let page = page(Query::select().from(matches).to_owned(), query, filtered);
        backend.build(&page.with(WithClause::new().cte(cte).to_owned()))
    } else {
        backend.build(&page(select, query, filtered))
    };
    let rows = db.query_all_raw(statement).await?;
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|row| row.try_get::<Uuid>("", "item_id"))
        .collect::<Result<_, _>>()?;
    if let Some(slug) = query.category.as_ref().filter(|_| rows.is_empty()) {
        let known = categories::Entity::find()
            .filter(categories::Column::TenantId.eq(tenant_id))
            .filter(categories::Column::Slug.eq(slug))
            .one(db)
            .await?;
        if known.is_none() {
            return Err(CatalogError::Invalid(vec![FieldProblem::new(
                "category",
                format!("`{slug}` is not a category of this shop"),
            )]));
        }
    }
    let total = match rows.first() {
        Some(row) if filtered => row.try_get::<i64>("", "total")? as u64,
        // Unfiltered, or past the last page: count on its own.
        _ => {
            let mut count = count;
            count.expr_as(
                Func::count(Expr::col(listings::Column::ItemId)),
                Alias::new("n"),
            );
            db.query_one_raw(backend.build(&count))
                .await?
                .map(|row| row.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0) as u64
        }
    };

    let products = load(db, &ids).await?;
    Ok((products, total))
}

/// `rows` (listings, or a search's matches) as one page of item ids in `query`'s order, with
/// the count of all rows when `counted`.
fn page(mut rows: SelectStatement, query: &ProductQuery, counted: bool) -> SelectStatement {
    rows.column(listings::Column::ItemId);
    if counted {
        rows.expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new("total"));
    }
    let (keys, direction): (&[listings::Column], Order) = match query.sort {
        Sort::DisplayOrder => (
            &[listings::Column::DisplayOrder, listings::Column::Name],
            Order::Asc,
        ),
        Sort::PriceAsc => (&[listings::Column::Price], Order::Asc),
        Sort::PriceDesc => (&[listings::Column::Price], Order::Desc),
        Sort::Name => (&[listings::Column::Name], Order::Asc),
        // Item ids are UUIDv7: they sort by creation time.
        Sort::Newest => (&[], Order::Desc),
    };
    for key in keys {
        rows.order_by(*key, direction.clone());
    }
    let tie_break = match query.sort {
        Sort::Newest => Order::Desc,
        _ => Order::Asc,
    };
    rows.order_by(listings::Column::ItemId, tie_break)
        .limit(query.limit)
        .offset(query.page.saturating_sub(1) * query.limit);
    rows
}

/// A product's own page: the product, and how its shop prices (for its SEO data).
pub struct ProductPage {
    pub product: Product,
    /// The shop's currency: prices are in its minor units.
    pub currency: String,
    pub prices_include_tax: bool,
}

/// A published product by its slug, with its shop's pricing read in the same statement as
/// the slug.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn product<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    slug: &str,
) -> Result<ProductPage, CatalogError> {
    let settings = listings::Entity::belongs_to(store_settings::Entity)
        .from(listings::Column::TenantId)
        .to(store_settings::Column::TenantId);
    let (item_id, currency, prices_include_tax): (Uuid, String, bool) = listings::Entity::find()
        .select_only()
        .column(listings::Column::ItemId)
        .column(store_settings::Column::Currency)
        .column(store_settings::Column::PricesIncludeTax)
        .join(JoinType::InnerJoin, settings.into())
        .filter(listings::Column::TenantId.eq(tenant_id))
        .filter(listings::Column::Slug.eq(slug))
        .filter(listings::Column::Published.eq(true))
        .into_tuple()
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("product"))?;
    let product = load(db, &[item_id])
        .await?
        .pop()
        .ok_or(CatalogError::NotFound("product"))?;
    Ok(ProductPage {
        product,
        currency,
        prices_include_tax,
    })
}

/// Items, listings, stock and categories for `ids`, in that order, leaving out inactive
/// or deleted items.
async fn load<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<Product>, CatalogError> {
    // Items, listings and stock totals in one statement; models read back by column prefix.
    let mut select = Query::select();
    for column in items::Column::iter() {
        select.expr_as(
            Expr::col((items::Entity, column)),
            Alias::new(format!("i_{}", column.as_str())),
        );
    }
    for column in listings::Column::iter() {
        select.expr_as(
            Expr::col((listings::Entity, column)),
            Alias::new(format!("l_{}", column.as_str())),
        );
    }
    for total in ["on_hand", "reserved"] {
        select.expr_as(
            Expr::cust(super::stock::total_sql(total, "items.id")),
            Alias::new(total),
        );
    }
    select
        .expr_as(
            Expr::col((categories::Entity, categories::Column::Slug)),
            Alias::new("category_slug"),
        )
        .expr_as(
            Expr::col((categories::Entity, categories::Column::Name)),
            Alias::new("category_name"),
        )
        .from(items::Entity)
        .inner_join(
            listings::Entity,
            Expr::col((listings::Entity, listings::Column::ItemId))
                .equals((items::Entity, items::Column::Id)),
        )
        .left_join(
            categories::Entity,
            Expr::col((categories::Entity, categories::Column::Id))
                .equals((listings::Entity, listings::Column::CategoryId)),
        )
        .and_where(Expr::col((items::Entity, items::Column::Id)).is_in(ids.to_vec()))
        .and_where(Expr::col((items::Entity, items::Column::DeletedAt)).is_null())
        .and_where(Expr::col((items::Entity, items::Column::Active)).eq(true));
    let mut found: HashMap<Uuid, Product> = HashMap::new();
    for row in db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?
    {
        let item = items::Model::from_query_result(&row, "i_")?;
        let listing = listings::Model::from_query_result(&row, "l_")?;
        let on_hand: i64 = row.try_get("", "on_hand")?;
        let reserved: i64 = row.try_get("", "reserved")?;
        let category_slug: Option<String> = row.try_get("", "category_slug")?;
        let category_name: Option<String> = row.try_get("", "category_name")?;
        found.insert(
            item.id,
            Product {
                detail: ItemDetail {
                    item,
                    listing,
                    stock: super::stock::Totals { on_hand, reserved },
                },
                category_slug,
                category_name,
            },
        );
    }
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}
