"""The I/O seam: every read, write, listing and delete of a store goes through here."""
