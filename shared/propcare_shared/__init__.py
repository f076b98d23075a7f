"""Propcare's common kernel: what every service needs and nothing of any one service's domain."""
