"""The repository-facts parts of a context document for an AI assistant (``homeops docs``).

A context document (CLAUDE.md and the like) tells an assistant the clusters, the layout, the apps and
the conventions of a repository; written by hand it drifts from the repository the day after.
:mod:`homeops.api` gathers the facts from the render and the profile (:mod:`.model`), this package
writes them as Markdown sections (:mod:`.markdown`) and splices them between
``<!-- homeops:begin NAME -->`` / ``<!-- homeops:end NAME -->`` markers, leaving every other line of
the document as it is (:mod:`.markers`).
"""
