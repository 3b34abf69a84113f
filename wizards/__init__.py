from . import account_move_cdiscount_send
