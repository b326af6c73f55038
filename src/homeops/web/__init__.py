"""Pages built from the API's results: the review page of a diff, the repository report site, and
the local server that shows both. Everything here calls :mod:`homeops.api`, never the CLI."""
