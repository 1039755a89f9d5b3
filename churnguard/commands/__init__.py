"""Sub-commands of `churnguard`; each module registers one (see churnguard.cli)."""
