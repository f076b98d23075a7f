"""Analytics' pure logic: the complaint facts fold, the KPIs, hotspot windows and report scopes."""
