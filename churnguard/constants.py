"""Names shared by the stack, the training launchers and the teardown sweep.

Everything the project creates, in CloudFormation or outside it, is named with NAME_PREFIX and
tagged with PROJECT_TAGS, so that teardown can find exactly the project's leftovers and nothing else.
"""

NAME_PREFIX = "churnguard"
PROJECT_TAG_KEY = "project"
PROJECT_TAG_VALUE = "churnguard"
PROJECT_TAGS: dict[str, str] = {PROJECT_TAG_KEY: PROJECT_TAG_VALUE}

# The SageMaker built-in XGBoost container that serves the trained artifact; the local xgboost
# library is pinned to the same series in pyproject.toml so the artifact loads there unchanged.
XGBOOST_CONTAINER_VERSION = "3.0-5"

DATABASE_NAME = "churnguard"
# The API Lambdas' database user: the name in its secret (infra/database.py), the user `churnguard
# local up` creates, and the account `churnguard verify` reads the grants of.
API_USER_NAME = "churnguard_api"

# Defaults of every command that makes synthetic data or trains: one seed everywhere, and as many
# customers as the public data set has.
DEFAULT_SEED = 1729
DEFAULT_SYNTHETIC_CUSTOMERS = 3333
# The reduced model is kept when its mean cross-validated AUC is at most this much below the full model's
# (`churnguard train --auc-margin`, local and SageMaker training alike).
DEFAULT_AUC_MARGIN = 0.005
# Fewer customers leave too few churners for a stratified 70/20/10 split to mean anything.
MIN_SYNTHETIC_CUSTOMERS = 100
