-- 保险 tasks that month M's list may hold (RULES.md "Reminder list for month M"): the insurance
-- renews on the anniversary of the first invoice; the task is generated the month before the
-- anniversary's month (due month = M+1) and stays valid through it. int_vehicle_due_dates gives
-- the first anniversary after the cut-off (end of M-1): the one in M+1 is the next one unless M
-- itself holds one, twelve months apart. An invoice on 29 February renews on 28 February in a
-- common year.
-- (the window rule: macros/reminder_windows.sql)

{{ month_before_due_candidates('insurance', 'next_insurance_due_date') }}
