"""Intake: receiving messages, envelope checks, the group commit, the writer process and the
activity stamp workers defer to. Stores what a partner sent; never processes it."""
