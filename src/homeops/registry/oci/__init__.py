"""A small OCI distribution client, on the standard library: registry references
(:mod:`.references`), Docker's credentials (:mod:`.credentials`), manifests and digests
(:mod:`.manifests`), token auth, manifests, blobs and tags over HTTP (:mod:`.client`), and what goes
wrong (:mod:`.errors`)."""
