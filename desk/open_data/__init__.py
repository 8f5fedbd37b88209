"""The city's open figures: a public page, open-data downloads and a widget (``/open``)."""
