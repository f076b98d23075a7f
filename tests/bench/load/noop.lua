-- POST /api/v1/noop with a complaint-sized JSON body: the baseline beside post_complaint.lua.
-- Usage: wrk -t2 -c16 -d15s --latency -s tests/bench/load/noop.lua http://127.0.0.1:8001
function init(args)
  wrk.method = "POST"
  wrk.path = "/api/v1/noop"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"estate_id":"NS01","building":"3","unit":"1","room":"1201",' ..
    '"reporter":{"name":"Load Test","phone":"13900000000","role":"tenant"},"channel":"phone",' ..
    '"description":"3号楼1201室厨房水管漏水","demand":"尽快上门维修"}'
end
