"""REST API v1 over coalitions, reports, findings, figures, review and exports
(docs/api.md). Thin views: scope through ``visible_to``, rules in reporting.services."""
