from . import account_move_cdiscount_send
from . import account_move_send_wizard
