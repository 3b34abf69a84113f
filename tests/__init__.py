from . import test_config, test_eligibility, test_install, test_send, test_ubl_export
