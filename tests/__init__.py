from . import test_install
from . import test_config
from . import test_eligibility
from . import test_send
from . import test_ubl_export
from . import test_bulk
