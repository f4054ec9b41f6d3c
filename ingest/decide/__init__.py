"""The decision for a person's mail, inside the transaction.

`context` holds what is known while deciding (`Context`) and the result (`Decision`);
`actions` decides; `thread` finds the ticket a mail names; `authres` and `policy` say who may
do what; `create`, `comment` and `staff` carry the decision out, `commands` reads field lines
and keywords, `staff_commands` the mail commands of staff replies, `record` writes comments
and attachments, `ratelimit` holds floods, and `notices` queues the mail the decision causes."""

__all__ = [
    "actions",
    "authres",
    "commands",
    "comment",
    "context",
    "create",
    "notices",
    "policy",
    "ratelimit",
    "record",
    "staff",
    "staff_commands",
    "thread",
]
