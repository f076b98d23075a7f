"""Closed-loop HTTP load with wrk: a Lua script per request shape, and the no-op app they are compared with."""
