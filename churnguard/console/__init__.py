"""The agent console: one page a call-centre agent uses with a customer on the line, and its JSON API.

`churnguard console` serves both locally (127.0.0.1 only); infra/console.py deploys the same page
behind CloudFront with the API behind a Cognito JWT authorizer. See docs/console.md.
"""
