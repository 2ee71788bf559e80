"""The emulated EventBridge: rule scheduling that invokes targets (:mod:`.scheduler`) and a
fault proxy in front of moto's EventBridge (:mod:`.proxy`).
"""
