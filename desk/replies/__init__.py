"""Public replies: compose, approve, post exactly once, and see the city's answer come back.

``services`` writes and approves answers and fans them out into outbox rows;
``outbox`` owns the delivery state machine; ``senders`` speaks to each network;
``ratelimit`` keeps all workers under the networks' limits; ``echo`` recognises the
city's own reply when a collector brings it back. The RQ job is ``workers.replies``.
"""
