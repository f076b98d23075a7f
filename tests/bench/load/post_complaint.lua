-- POST /api/v1/complaints with a valid staff-entered body, a different reporter phone and flat each time.
-- Environment: ESTATE_ID (default NS01), BEARER (a staff token of the estate's group; required),
-- FLOORS (rooms 1..FLOORS on buildings 1..BUILDINGS, default 40 and 10: households the load script imported).
-- Usage: BEARER=... wrk -t2 -c16 -d15s --latency -s tests/bench/load/post_complaint.lua http://127.0.0.1:8000
-- The path is forced here, so the URL needs only the host.

local estate = os.getenv("ESTATE_ID") or "NS01"
local bearer = os.getenv("BEARER") or error("BEARER must hold a staff token")
local floors = tonumber(os.getenv("FLOORS") or "40")
local buildings = tonumber(os.getenv("BUILDINGS") or "10")
local counter = 0

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
  wrk.method = "POST"
  wrk.path = "/api/v1/complaints"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. bearer
end

function request()
  counter = counter + 1
  local building = math.random(1, buildings)
  local room = string.format("%d01", math.random(1, floors))
  local phone = string.format("139%08d", math.random(0, 99999999))
  local body = string.format(
    '{"estate_id":"%s","building":"%d","unit":"1","room":"%s",' ..
    '"reporter":{"name":"Load Test","phone":"%s","role":"tenant"},"channel":"phone","first_responder_id":"bench-agent",' ..
    '"description":"%d号楼%s室厨房水管漏水 (load %d)","demand":"尽快上门维修"}',
    estate, building, room, phone, building, room, counter)
  return wrk.format(nil, nil, nil, body)
end
