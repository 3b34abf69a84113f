-- A duplicated database must never talk to Octopia's production with the original's secrets.
UPDATE cdiscount_account
   SET environment = 'sandbox',
       client_secret = NULL;
