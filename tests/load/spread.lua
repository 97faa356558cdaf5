-- wrk script: storefront pages spread over many URLs (run by tests/load/storefront-spread.sh).
-- Each request picks one of the 200 seeded categories and a page 1-3, or one of 20 searches.
local searches = {"oak", "lamp", "steel", "chair", "oak lamp", "linen", "bowl", "glass",
  "walnut", "mug", "wool", "stool", "brass", "vase", "cedar", "table", "clay", "shelf",
  "cotton", "hook"}
math.randomseed(os.time())
request = function()
  local path
  if math.random() < 0.75 then
    path = string.format("/api/v1/store/products?category=seed-cat-%d&page=%d&limit=20",
      math.random(0, 199), math.random(1, 3))
  else
    path = string.format("/api/v1/store/products?search=%s&limit=20",
      searches[math.random(#searches)]:gsub(" ", "%%20"))
  end
  return wrk.format("GET", path, {["X-Tenant"] = "loadtest"})
end
