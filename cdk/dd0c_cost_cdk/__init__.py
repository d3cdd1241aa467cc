"""The dd0c/cost CDK app: one construct per concern; the stack only composes them.

Everything pipeline-shaped (queues, DLQs, functions, event sources, rules, routes) is built by
iterating over ``dd0c_cost.topology.TOPOLOGY``; nothing here lists them by hand.
"""
