-- 质保 tasks that month M's list may hold (RULES.md "Reminder list for month M"): the warranty
-- ends on the latest repair order's warranty_expiry_date where one gives it, else warranty_years
-- after the first invoice (int_vehicle_due_dates); the task is generated the month before the
-- end month (due month = M+1) and stays valid through the end month.
-- (the window rule: macros/reminder_windows.sql)

{{ month_before_due_candidates('warranty', 'warranty_expiry_date') }}
