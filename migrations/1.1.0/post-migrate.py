"""1.1.0 keeps the send queue in cdiscount.queue instead of columns of account_move: the
invoices queued by 1.0.0 get their entry, with the format, replace flag and user they were
queued with, so the background sender still sends them, once."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        INSERT INTO cdiscount_queue
            (move_id, document_format, replace, user_id,
             create_uid, create_date, write_uid, write_date)
        SELECT id, cdiscount_queue_format, COALESCE(cdiscount_queue_replace, FALSE),
               cdiscount_queue_user_id,
               1, now() at time zone 'UTC', 1, now() at time zone 'UTC'
          FROM account_move
         WHERE cdiscount_queued
        """
    )
