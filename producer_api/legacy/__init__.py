"""The reference system's ``/api/*`` answers, built from this service's verdicts and counts.

The reference (a Flask app, see ``docs/LEGACY_API.md``) wraps every answer in
``{success, message, data, error}``. Its existing clients read its field names,
types and value conventions (lowercase ``pass``/``fail``, percent rounded to two
decimals...), so every key it returns is here with the same meaning; this
service's own keys are added only where they cannot collide. Pure functions, no
I/O: the routes in :mod:`producer_api.routes.legacy` do the waiting and the
language negotiation.

- :mod:`.envelope`: the envelope and the reference's error answers.
- :mod:`.validation`: ``POST /api/validate`` (and the old ``/api/upload`` extras).
- :mod:`.documents`: health, summary, validation rules and API information.
"""
