-- issue 15: the result file's shop_code / shop_name / shop_tel stay with the parcel (JSON object; NULL = none given).
ALTER TABLE carrier_shipments ADD COLUMN shop TEXT;
