"""The rules engine: pydantic models of the ops-editable ``rules/*.yaml`` and pure evaluation functions
``(records, rules, now) → desired state / decisions``. Only ``loader`` reads files and only ``provider`` touches the
runtime (metrics, logging); everything else imports the domain alone."""

from bridge.rules.loader import RuleFile, RuleProblem, RuleSet, RulesInvalid, check_rules, load_rules

__all__ = ["RuleFile", "RuleProblem", "RuleSet", "RulesInvalid", "check_rules", "load_rules"]
