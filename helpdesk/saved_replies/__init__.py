"""Saved replies (macros): a brand's ready-made answers, per topic and language, with
variables filled in for the question and the volunteer.

Variables are names in braces, filled in when a volunteer inserts the saved reply:

    {customer}     the customer's @handle, e.g. @ann
    {signature}    the volunteer's signature, e.g. ^AB (the one the charter's linter expects)
    {store}        the name of the volunteer's store
    {first_name}   the volunteer's first name

``{{`` and ``}}`` stand for a literal brace. Any other name, or a brace that opens or closes
nothing, is refused when the saved reply is saved, and so is a body the charter's linter
blocks (filled in with sample values). A variable without a value (a volunteer without a
store) renders as nothing, and the composer says which one was empty.

Supervisors and admins of the brand create, edit, archive and restore saved replies; every
change writes an audit event. Volunteers who may claim the brand's questions use them.

The parts: ``variables`` (what a body may say and how it is filled in), ``queries`` (who may
use which, the composer's picker, the management list), ``actions`` (the audited writes).
"""
