-- The query plans docs/BENCHMARKS.md quotes for storefront pages, on the seeded shop:
--   psql postgres://postgres@127.0.0.1:5432/cw_load -f tests/load/explain-storefront.sql
-- Each pair is the form the code uses now, then the form it replaced; compare the
-- "Execution Time" lines.
\set ON_ERROR_STOP on
SELECT id AS shop FROM tenants WHERE slug = 'loadtest' \gset

\echo '== category page (seed-cat-7 and its sub-categories): = ANY(ARRAY(..)), used'
EXPLAIN ANALYZE SELECT item_id, COUNT(*) OVER () AS total FROM listings
WHERE tenant_id = :'shop' AND visible = TRUE AND category_id = ANY(ARRAY(
  WITH RECURSIVE subtree(id) AS (
    SELECT id FROM categories WHERE tenant_id = :'shop' AND slug = 'seed-cat-7'
    UNION SELECT c.id FROM categories c JOIN subtree s ON c.parent_id = s.id)
  SELECT id FROM subtree))
ORDER BY display_order, name, item_id LIMIT 20 OFFSET 20;

\echo '== category page: IN (..), replaced'
EXPLAIN ANALYZE SELECT item_id, COUNT(*) OVER () AS total FROM listings
WHERE tenant_id = :'shop' AND visible = TRUE AND category_id IN (
  WITH RECURSIVE subtree(id) AS (
    SELECT id FROM categories WHERE tenant_id = :'shop' AND slug = 'seed-cat-7'
    UNION SELECT c.id FROM categories c JOIN subtree s ON c.parent_id = s.id)
  SELECT id FROM subtree)
ORDER BY display_order, name, item_id LIMIT 20 OFFSET 20;

-- Searches run as prepared statements; after five executions Postgres may use a generic plan,
-- which is the one that matters.
PREPARE search_now(uuid, text) AS
  WITH matches AS MATERIALIZED (SELECT item_id, display_order, name, price FROM listings
    WHERE tenant_id = $1 AND visible = TRUE AND search_text LIKE $2)
  SELECT item_id, COUNT(*) OVER () AS total FROM matches
  ORDER BY display_order, name, item_id LIMIT 20;
PREPARE search_before(uuid, text) AS
  SELECT item_id, COUNT(*) OVER () AS total FROM listings
  WHERE tenant_id = $1 AND visible = TRUE AND search_text LIKE $2
  ORDER BY display_order, name, item_id LIMIT 20;
\o /dev/null
EXECUTE search_now(:'shop', '%oak%'); EXECUTE search_now(:'shop', '%oak%');
EXECUTE search_now(:'shop', '%oak%'); EXECUTE search_now(:'shop', '%oak%');
EXECUTE search_now(:'shop', '%oak%'); EXECUTE search_now(:'shop', '%oak%');
EXECUTE search_before(:'shop', '%oak%'); EXECUTE search_before(:'shop', '%oak%');
EXECUTE search_before(:'shop', '%oak%'); EXECUTE search_before(:'shop', '%oak%');
EXECUTE search_before(:'shop', '%oak%'); EXECUTE search_before(:'shop', '%oak%');
\o
\echo '== search "oak": matches first (materialized CTE), used'
EXPLAIN ANALYZE EXECUTE search_now(:'shop', '%oak%');
\echo '== search "oak": one ordered statement, replaced'
EXPLAIN ANALYZE EXECUTE search_before(:'shop', '%oak%');
