"""Teardown: `cdk destroy` of the stacks, then a sweep of what the project left outside CloudFormation."""
