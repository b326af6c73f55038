"""``homeops diff``: the rendered difference Flux would apply between two Git revisions.

Running one: :mod:`.revisions` (``diff_repository``); comparing two rendered sides: :mod:`.compare`;
what a change is: :mod:`.model`."""
