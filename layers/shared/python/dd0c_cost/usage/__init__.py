"""Usage-driven spend (issue 12): billing series polled through each account's reader role,
turned into rates and scored by the streaming detector. See ``poller``."""
