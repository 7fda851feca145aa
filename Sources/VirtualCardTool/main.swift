print("virtual-card")
