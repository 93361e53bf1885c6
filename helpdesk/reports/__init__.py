"""Reports for the agency, supervisors and volunteers: figures, charts, exports and the
reporting API. Reads the desk's rows and writes none of them; its own rows are the brand's
opening hours and holidays, API tokens and e-mail subscriptions."""
