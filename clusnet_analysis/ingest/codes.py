"""Coded values of the data contract that are not programme rules (light: imports nothing).

The pandera schemas check against these, and tables and figures list them in this order.
"""
LINK_KINDS = ("contact", "follow_up_visit", "joint_project", "other")
