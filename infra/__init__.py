"""CDK constructs and the stack that deploy churnguard to AWS (see docs/infra.md)."""
