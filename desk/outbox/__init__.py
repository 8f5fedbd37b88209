"""The outbox: one engine (:mod:`.engine`) posts every kind of delivery exactly once;
:mod:`.jobs` enqueues its jobs by name. The kinds live with their features:
:data:`desk.replies.outbox.REPLIES`, :data:`desk.registry.crosspost.ANNOUNCEMENTS`."""
