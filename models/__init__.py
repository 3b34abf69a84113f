from . import (
    account_edi_xml_ubl_cdiscount,
    account_move,
    account_move_send,
    cdiscount_account,
    cdiscount_import,
    cdiscount_upload,
    res_company,
    res_config_settings,
    res_partner,
    sale_order,
)
