print("study: placeholder")
