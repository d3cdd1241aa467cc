"""The zombie rules, one module per family of resources; ``dd0c_cost.zombies.criteria`` picks the rule
for a resource and applies what every type shares first."""
