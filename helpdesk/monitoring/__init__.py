"""Live monitoring: the desk as it is now, spike alerts and crisis mode, and the X bill's
budget; pages for supervisors and agency staff, and ``/metrics`` for operations."""
