/** @odoo-module */
/**
 * Tours of the Cdiscount invoice upload, run by tests/test_tour.py as an invoicing user
 * (account.group_account_invoice). The Python test runs the status sync between tours.
 *
 * `screenshot(name)` asks the test to capture the page (Chrome DevTools) and waits for it: the
 * test saves the PNG only when CDISCOUNT_SCREENSHOTS names a folder.
 */
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function screenshot(name) {
    return {
        content: `Screenshot: ${name}`,
        trigger: "body:not(:has(.o_notification_manager .o_notification))",
        async run() {
            // let transitions, fonts and lazy widgets settle
            await new Promise((resolve) => setTimeout(resolve, 600));
            window.__cdiscountScreenshot = null;
            console.log(`cdiscount_screenshot:${name}`);
            const start = Date.now();
            while (window.__cdiscountScreenshot !== name) {
                if (Date.now() - start > 9000) {
                    throw new Error(`screenshot ${name} was not acknowledged`);
                }
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
        },
    };
}

function closeNotifications() {
    return {
        content: "Close the notifications",
        trigger: "body",
        run() {
            for (const button of document.querySelectorAll(".o_notification_close")) {
                button.click();
            }
        },
    };
}

const cdiscountBadge = (label) =>
    `.o_form_view div[name=cdiscount_state] .badge:contains("${label}")`;

// 1. One invoice: send it, see it processing.
tours.add("cdiscount_send_one_invoice", {
    steps: () => [
        {
            content: "The posted invoice of a Cdiscount order is ready to be sent",
            trigger: cdiscountBadge("To send"),
        },
        {
            trigger: ".o_form_view div[name=cdiscount_order_ref]:contains(CD-)",
        },
        {
            content: "Send it to Cdiscount",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_cdiscount_send]",
            run: "click",
        },
        {
            content: "Cdiscount took the file",
            trigger: ".o_notification:contains(sent to Cdiscount)",
        },
        {
            content: "The invoice is now processing",
            trigger: cdiscountBadge("Processing"),
        },
        closeNotifications(),
        {
            content: "The chatter holds the sent file",
            trigger: ".o-mail-Message:contains(Invoice sent to Cdiscount for order)",
        },
        {
            content: "Send is not offered again while Cdiscount checks the file",
            trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name=action_cdiscount_send]))",
        },
        screenshot("invoice_processing"),
    ],
});

// 2. After the status sync: accepted, with the upload history in the Cdiscount tab.
tours.add("cdiscount_invoice_accepted", {
    steps: () => [
        {
            content: "Cdiscount accepted the invoice",
            trigger: cdiscountBadge("Accepted"),
        },
        {
            content: "Replacing it is now offered",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_cdiscount_replace]",
        },
        {
            content: "Open the Cdiscount tab",
            trigger: ".o_notebook .nav-link[name=cdiscount]",
            run: "click",
        },
        {
            content: "The upload and Cdiscount's answer are listed",
            trigger: ".o_field_widget[name=cdiscount_upload_ids] .o_data_row:contains(Accepted)",
        },
        {
            trigger: ".o_field_widget[name=cdiscount_file_status]:contains(Success)",
        },
        screenshot("invoice_accepted"),
    ],
});

// 3. Many invoices: select them all, Action > Send to Cdiscount, per-reason summary, send.
tours.add("cdiscount_bulk_send", {
    steps: () => [
        {
            content: "Wait for the invoice list",
            trigger: ".o_list_view .o_data_row",
        },
        {
            content: "Select every invoice",
            trigger: ".o_list_view thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Open the Action menu",
            trigger: ".o_cp_action_menus button:contains(Actions)",
            run: "click",
        },
        {
            content: "Send to Cdiscount",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Send to Cdiscount)",
            run: "click",
        },
        {
            content: "The wizard counts what can go",
            trigger: ".modal .alert-info:contains(4 invoice(s) will be sent)",
        },
        {
            content: "and groups the others by reason",
            trigger: ".modal .alert-warning:contains(3 invoice(s)):contains(Not posted):contains(Not linked to a Cdiscount order):contains(Already accepted)",
        },
        screenshot("bulk_wizard"),
        {
            content: "Send",
            trigger: ".modal footer button[name=action_send]",
            run: "click",
        },
        {
            content: "The summary names the import",
            trigger: ".modal div[name=result_summary]:contains(4 invoice(s) sent in 1 import(s))",
        },
        screenshot("bulk_result"),
        {
            content: "See the imports",
            trigger: ".modal footer button[name=action_open_imports]",
            run: "click",
        },
        {
            content: "One bulk import, processing",
            trigger: ".o_list_view .o_data_row:contains(Bulk (ZIP)):contains(Processing)",
        },
    ],
});

// 4. After the sync: the import with a refused file, then the activity leads to the invoice.
tours.add("cdiscount_failed_import", {
    steps: () => [
        {
            content: "The bulk import is partly accepted",
            trigger: ".o_list_view .o_data_row:contains(Bulk (ZIP)) .badge:contains(Partly accepted)",
        },
        screenshot("imports_list"),
        {
            content: "Open it",
            trigger: ".o_list_view .o_data_row:contains(Bulk (ZIP)) td[name=name]",
            run: "click",
        },
        {
            content: "One line per file, the refused one with Cdiscount's reason",
            trigger: ".o_field_widget[name=upload_ids] .o_data_row:contains(CD-UNKNOWN-1):contains(Refused):contains(OrderNotFound)",
        },
        {
            trigger: ".o_field_widget[name=upload_ids] .o_data_row:contains(Accepted)",
        },
        {
            content: "Failed files can be sent again",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_resend_failed]",
        },
        screenshot("import_form"),
        {
            content: "An activity waits for the accountant",
            trigger: ".o_menu_systray .o-mail-ActivityMenu-counter",
        },
        {
            content: "Open the activities",
            trigger: ".o_menu_systray i[aria-label=Activities]",
            run: "click",
        },
        {
            content: "Open the Cdiscount invoices to check (an entry of their own)",
            trigger: ".o-mail-ActivityMenu .o-mail-ActivityGroup[data-model_name='account.move']:contains(Cdiscount invoices to check)",
            run: "click",
        },
        {
            // 18.0 opens the activity view, 19.0 the list of the invoices with one
            content: "Open the refused invoice",
            trigger:
                ".o_activity_view .o_activity_record:contains(Chloé Laurent), .o_list_view .o_data_row td[name=name]",
            run: "click",
        },
        {
            content: "It is refused, with Cdiscount's reason",
            trigger: cdiscountBadge("Refused"),
        },
        {
            trigger: ".o_form_view .alert-danger:contains(OrderNotFound)",
        },
        {
            content: "The activity tells what to do",
            trigger: ".o-mail-Activity:contains(Cdiscount refused the invoice)",
        },
        screenshot("invoice_refused"),
    ],
});

// 5. The manager's side: the Cdiscount account, its connection test, the settings.
tours.add("cdiscount_configuration", {
    steps: () => [
        {
            content: "The sandbox account",
            trigger: ".o_form_view .ribbon:contains(Sandbox)",
        },
        {
            content: "Test the connection",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_test_connection]",
            run: "click",
        },
        {
            trigger: ".o_notification:contains(Connected to Cdiscount as seller SELLER-1)",
        },
        closeNotifications(),
        {
            trigger: ".o_form_view .o_field_widget[name=last_check_message]:contains(Connected)",
        },
        screenshot("account_form"),
    ],
});

tours.add("cdiscount_settings", {
    steps: () => [
        {
            content: "Search the settings for Cdiscount",
            trigger: ".o_control_panel .o_searchview input.o_searchview_input",
            run: "edit Cdiscount",
        },
        {
            content: "The Cdiscount block of the invoicing settings",
            trigger: "#cdiscount_accounts:contains(Cdiscount Accounts)",
        },
        {
            trigger: "#cdiscount_order_ref_source .o_field_widget[name=cdiscount_order_ref_source]",
        },
        {
            content: "Other settings are filtered out",
            trigger: ".o_form_view:not(:has(#default_taxes))",
        },
        screenshot("settings"),
    ],
});

// The French key screenshot: a refused invoice, explained, in French.
tours.add("cdiscount_invoice_fr", {
    steps: () => [
        {
            content: "Refusée",
            trigger: '.o_form_view div[name=cdiscount_state] .badge:contains("Refusée")',
        },
        {
            content: "Cdiscount's reason, explained in French",
            trigger: ".o_form_view .alert-danger:contains(ne connaît pas cette commande)",
        },
        {
            content: "A refused invoice is sent again, not replaced (Cdiscount has none)",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_cdiscount_send]:contains(Envoyer à Cdiscount)",
        },
        screenshot("invoice_refused_fr"),
    ],
});

const sendingMethod = (label) =>
    `.modal div[name=sending_method_checkboxes] .form-check:contains(${label})`;

// 6. A replacement, then a bulk send of a selection that includes the replaced invoice.
tours.add("cdiscount_replace_then_bulk", {
    steps: () => [
        {
            content: "Replace the accepted invoice",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_cdiscount_replace]",
            run: "click",
        },
        {
            content: "Confirm: Cdiscount accepted an invoice for this order",
            trigger: ".modal:contains(this version will replace it) footer .btn-primary",
            run: "click",
        },
        {
            content: "The new version is processing",
            trigger: cdiscountBadge("Processing"),
        },
        closeNotifications(),
        {
            content: "The chatter says it replaces the accepted invoice",
            trigger: ".o-mail-Message:contains(replaces the invoice Cdiscount had accepted)",
        },
    ],
});

tours.add("cdiscount_bulk_with_a_replaced_invoice", {
    steps: () => [
        {
            trigger: ".o_list_view .o_data_row",
        },
        {
            content: "Select every invoice, the replaced one included",
            trigger: ".o_list_view thead .o_list_record_selector input",
            run: "click",
        },
        {
            trigger: ".o_cp_action_menus button:contains(Actions)",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Send to Cdiscount)",
            run: "click",
        },
        {
            content: "The wizard opens and counts what can go",
            trigger: ".modal .alert-info:contains(2 invoice(s) will be sent)",
        },
        {
            content: "The accepted one is said with its reason and its count",
            trigger: ".modal .alert-warning:contains(Already accepted):contains(1 invoice(s):)",
        },
        {
            content: "Replace the accepted ones too",
            trigger: ".modal div[name=replace] input",
            run: "click",
        },
        {
            trigger: ".modal .alert-info:contains(3 invoice(s) will be sent)",
        },
        {
            trigger: ".modal footer button[name=action_send]",
            run: "click",
        },
        {
            trigger: ".modal div[name=result_summary]:contains(3 invoice(s) sent in 1 import(s))",
        },
    ],
});

// 7. Print & Send on an accepted invoice: not pre-ticked, and a replacement is said.
tours.add("cdiscount_print_send_accepted", {
    steps: () => [
        {
            trigger: cdiscountBadge("Accepted"),
        },
        {
            content: "Print & Send",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_invoice_sent]",
            run: "click",
        },
        {
            content: "by Cdiscount is offered but not ticked: the invoice is accepted",
            trigger: `${sendingMethod("by Cdiscount")} input:not(:checked)`,
            run: "click",
        },
        {
            content: "Ticked by hand: the wizard says it replaces the accepted invoice",
            trigger: ".modal:contains(Cdiscount already accepted)",
        },
        screenshot("print_send_replace"),
        {
            content: "Close without sending",
            trigger: ".modal .btn-close",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});

// 8. An invoice of no Cdiscount order: nothing of Cdiscount is offered on it.
tours.add("cdiscount_not_offered", {
    steps: () => [
        {
            content: "No Send to Cdiscount button on an invoice of no Cdiscount order",
            trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name=action_cdiscount_send]))",
        },
        {
            content: "nor in the gear menu",
            trigger: ".o_cp_action_menus .dropdown-toggle",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu:not(:has(.o-dropdown-item:contains(Send to Cdiscount)))",
        },
        {
            content: "Print & Send",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_invoice_sent]",
            run: "click",
        },
        {
            content: "by Cdiscount is not offered",
            trigger: ".modal div[name=sending_method_checkboxes]:not(:contains(by Cdiscount))",
        },
        {
            trigger: ".modal .btn-close",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
