"""The call-centre incentive engine: rules, decisions, the recommend flow, the offers log and its report."""
