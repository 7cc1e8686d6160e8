import SwinitCore
