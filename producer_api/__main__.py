from producer_api.main import main

main()
