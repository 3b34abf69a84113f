{
    "name": "Cdiscount Invoice Upload",
    "summary": "Upload the invoices of your Cdiscount orders to Octopia, as UBL 2.1 or PDF, "
    "and follow their processing",
    "version": "1.1.0",  # the series (18.0, 19.0) is added by Odoo
    "development_status": "Beta",
    "category": "Accounting/Accounting",
    # Where the repository is to be published; not public yet (docs/packaging.rst).
    "website": "https://github.com/cdiscount-invoice-upload/cdiscount_invoice_upload",
    "author": "Cdiscount Invoice Upload developers",
    "maintainers": ["cdiscount-invoice-upload"],  # GitHub handles; the team's, until named
    "license": "LGPL-3",
    "depends": ["sale", "account_edi_ubl_cii"],
    "external_dependencies": {"python": ["requests", "lxml"]},
    "data": [
        "security/cdiscount_invoice_upload_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "data/mail_activity_type_data.xml",
        "views/cdiscount_account_views.xml",
        "views/cdiscount_import_views.xml",
        "views/account_move_views.xml",
        "views/sale_order_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/account_move_cdiscount_send_views.xml",
        "views/cdiscount_menus.xml",
        "data/cdiscount_versioned_data.xml",
    ],
    "demo": [
        "demo/cdiscount_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "cdiscount_invoice_upload/static/tests/tours/**/*",
        ],
    },
}
