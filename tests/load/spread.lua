-- wrk script: storefront pages spread over many URLs (run by tests/load/storefront-spread.sh).
-- "lists" (default): one of the 200 seeded categories with a page 1-3, or one of 20 searches:
-- 620 URLs. "wide": a quarter of the requests go to one of the 10,000 product pages instead:
-- 10,620 URLs, most of them seldom asked for, as a real shop's long tail.
local searches = {"oak", "lamp", "steel", "chair", "oak lamp", "linen", "bowl", "glass",
  "walnut", "mug", "wool", "stool", "brass", "vase", "cedar", "table", "clay", "shelf",
  "cotton", "hook"}
local wide = false
init = function(args)
  wide = args[1] == "wide"
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
request = function()
  local path
  local r = math.random()
  if wide and r < 0.25 then
    path = string.format("/api/v1/store/products/seed-%06d", math.random(0, 9999))
  elseif r < 0.75 then
    path = string.format("/api/v1/store/products?category=seed-cat-%d&page=%d&limit=20",
      math.random(0, 199), math.random(1, 3))
  else
    path = string.format("/api/v1/store/products?search=%s&limit=20",
      searches[math.random(#searches)]:gsub(" ", "%%20"))
  end
  return wrk.format("GET", path, {["X-Tenant"] = "loadtest"})
end
