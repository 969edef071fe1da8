-- 首保 tasks that month M's list may hold (RULES.md "Reminder list for month M"): due
-- first_service_months after the first invoice while the VIN has had no maintenance repair order
-- (int_vehicle_due_dates), generated in the due month and up to first_service_grace_months
-- after it, valid through the last month of that window. A candidate of a later window month has
-- a past due date: it is generated late only when no earlier list held it (a chain's first run).
-- (the window rule: macros/reminder_windows.sql)

{{ maintenance_window_candidates('first_maintenance', var('first_service_grace_months')) }}
