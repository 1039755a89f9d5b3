"""`churnguard verify`: after a deploy (or against the local stand-in), prove every path the call
centre depends on, one timed check per line, and say for each failure its likely cause and fix.

report (results and how they print), diagnose (cause and fix from an error's text), checks (what is
checked), runner (runs them in order, timing each), target (what a check talks to), local_target
and aws_target (the two kinds of target), stack_outputs and function_url (the AWS plumbing).
"""
